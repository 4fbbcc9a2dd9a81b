/** The floor under any signed-cookie session plugin (`floor-app.ts`) as a benchmark server. */
import { floorApp } from './floor-app.js'
import { benchSecret, serve } from './serve.js'

serve(floorApp(benchSecret()))
