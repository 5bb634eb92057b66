SET lock_timeout = '2s';
SET statement_timeout = '10min';
CREATE TABLE orders_with_a_name_that_goes_on_and_on_well_past_the_sixty_three_byte_limit (id bigint);
