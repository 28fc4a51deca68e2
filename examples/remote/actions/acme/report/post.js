console.log(`report post: ${process.env.STATE_reported} characters were reported`);
