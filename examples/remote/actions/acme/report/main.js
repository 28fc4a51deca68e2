const fs = require('fs');
const text = process.env.INPUT_TEXT;
console.log(`report: ${text}`);
fs.appendFileSync(process.env.GITHUB_STATE, `reported=${text.length}\n`);
