// Loaded by mocha before any test (.mocharc.json and test/e2e/.mocharc.json, "require").
// The AWS SDK warns once per process, in the middle of the test output, that its releases after
// January 2027 will need Node 22; Locus supports Node >= 20 (package.json "engines") and pins nothing
// around it, so the tests switch the notice off with the SDK's own switch. Users still see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
