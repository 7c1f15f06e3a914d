"""A resource server: verifies the example issuer's access tokens, keeps no users."""
