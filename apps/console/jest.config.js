import { jestConfig } from '../../jest.preset.js';
// The console's pure parts (the revision diff); its pages are tested end to end (e2e/test/console.test.ts).
export default jestConfig();
