/** The hand-written signed session (`handwritten-app.ts`) as a benchmark server. */
import { handwrittenApp } from './handwritten-app.js'
import { benchSecret, serve } from './serve.js'

serve(handwrittenApp(benchSecret()).app)
