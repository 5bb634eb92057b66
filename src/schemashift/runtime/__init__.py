"""Process machinery, kept apart from the pipeline: the warm process that runs calls with imports
done, the keeper of servers kept between calls, the launcher that picks between them, and the GC
pause. Nothing here knows a schema."""
