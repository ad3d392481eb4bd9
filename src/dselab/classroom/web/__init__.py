"""The classroom's web tier: the server, its doors (join links, cookies, expiry), the seats' lab pages
and terminals, and the instructor's grid."""
