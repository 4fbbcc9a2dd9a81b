import { defineConfig } from 'drizzle-kit'

// One config per SQL dialect, each with its own folder of bundled migrations. Regenerate them all after changing a
// schema with: bun run db:generate
const configs = {
  sqlite: defineConfig({ dialect: 'sqlite', schema: './src/engines/sqlite/schema.ts', out: './drizzle/sqlite' }),
  postgresql: defineConfig({
    dialect: 'postgresql',
    schema: './src/engines/postgres/schema.ts',
    out: './drizzle/postgres',
  }),
  mysql: defineConfig({ dialect: 'mysql', schema: './src/engines/mysql/schema.ts', out: './drizzle/mysql' }),
}

const { DRIZZLE_DIALECT: dialect = 'sqlite' } = process.env
if (!(dialect in configs)) throw new Error(`DRIZZLE_DIALECT must be one of ${Object.keys(configs).join(', ')}`)
export default configs[dialect as keyof typeof configs]
