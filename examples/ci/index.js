const { greet } = require('@acme/greeter');

console.log(greet('world'));
