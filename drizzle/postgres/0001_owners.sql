ALTER TABLE "sessions" ADD COLUMN "owner" text;--> statement-breakpoint
CREATE INDEX "sessions_owner_idx" ON "sessions" USING btree ("owner","expires_at");