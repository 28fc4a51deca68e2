// probe.mjs: exits 0 when chromium starts, 77 (with the reason) when not
import { launch } from './lib.mjs';
const b = await launch();
await b.close();
