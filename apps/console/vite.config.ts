import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Built to static files that the api-gateway serves at /console/ (BERTH_CONSOLE_DIR).
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1024 },
});
