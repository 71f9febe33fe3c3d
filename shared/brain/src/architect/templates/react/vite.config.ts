import react from '@vitejs/plugin-react'
import { defineConfig } from 'vitest/config'

// `base: './'` keeps every asset URL relative, so the build works under any path (a preview's
// /preview/<id>/ included).
export default defineConfig({
  base: './',
  plugins: [react()],
  build: { outDir: 'dist' },
  test: {
    environment: 'jsdom',
    reporters: ['default', './gantry-results.mjs'],
  },
})
