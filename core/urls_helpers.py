# Ids in URLs: at most 18 digits, so an absurd id is a 404 from the router instead of an
# out-of-range error from PostgreSQL's bigint.
ID_PATTERN = r"[0-9]{1,18}"
