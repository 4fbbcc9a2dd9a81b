import { defineConfig } from 'drizzle-kit'

// Regenerate the bundled SQLite migrations after changing the schema: bun run db:generate
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/engines/sqlite/schema.ts',
  out: './drizzle/sqlite',
})
