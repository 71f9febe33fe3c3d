import react from '@vitejs/plugin-react'
import { defineConfig } from 'vitest/config'

// `base: './'` keeps every asset URL relative, so the build works under any path (a preview's
// /preview/<id>/ included). node_modules may be read-only (Gantry links it to a shared set), so
// Vite's cache lives here instead, and package.json has no "type": "module": Vite then loads this
// file in memory rather than writing a bundled copy into node_modules/.vite-temp.
export default defineConfig({
  base: './',
  cacheDir: '.vite',
  plugins: [react()],
  build: { outDir: 'dist' },
  test: {
    environment: 'jsdom',
    reporters: ['default', './gantry-results.mjs'],
  },
})
