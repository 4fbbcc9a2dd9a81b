CREATE TABLE `sessions` (
	`id` varbinary(255) NOT NULL,
	`data` longtext CHARACTER SET utf8mb4 NOT NULL,
	`expires_at` bigint NOT NULL,
	CONSTRAINT `sessions_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX `sessions_expires_at_idx` ON `sessions` (`expires_at`);