ALTER TABLE `sessions` ADD `owner` varbinary(768);--> statement-breakpoint
CREATE INDEX `sessions_owner_idx` ON `sessions` (`owner`,`expires_at`);