"""Members, roles, sign-in and tokens, teams, devices and phone set-up."""
