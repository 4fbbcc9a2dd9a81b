ALTER TABLE `sessions` ADD `owner` text;--> statement-breakpoint
CREATE INDEX `sessions_owner_idx` ON `sessions` (`owner`) WHERE "sessions"."owner" is not null;