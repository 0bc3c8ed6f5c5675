from acme_internal_utils import greet

print(greet("world"))
