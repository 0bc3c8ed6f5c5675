def greet(name):
    return f"Hello, {name}, from the private acme-internal-utils 2.3.0"
