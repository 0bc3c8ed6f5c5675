exports.greet = (name) => `Hello, ${name}, from the private @acme/greeter 1.2.0`;
