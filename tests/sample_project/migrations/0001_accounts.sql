-- accounts

-- schemashift:up
CREATE SCHEMA "shop";

CREATE TYPE "shop"."account_status" AS ENUM ('active', 'banned');

CREATE SEQUENCE "shop"."account_id_seq" AS integer INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1 NO CYCLE;

CREATE TABLE "shop"."account" (
    "id" integer DEFAULT nextval('shop.account_id_seq'::regclass) NOT NULL,
    "email" character varying(200) NOT NULL,
    "status" shop.account_status NOT NULL
);

ALTER TABLE "shop"."account" ADD CONSTRAINT "account_email_key" UNIQUE (email);

ALTER TABLE "shop"."account" ADD CONSTRAINT "account_pkey" PRIMARY KEY (id);

CREATE INDEX ix_account_status ON shop.account USING btree (status);

ALTER SEQUENCE "shop"."account_id_seq" OWNED BY "shop"."account"."id";

COMMENT ON TABLE "shop"."account" IS 'who buys';

-- schemashift:down
-- UNSAFE: drops table shop.account
DROP TABLE "shop"."account";

-- UNSAFE: drops type shop.account_status
DROP TYPE "shop"."account_status";

-- UNSAFE: drops schema shop
DROP SCHEMA "shop";
