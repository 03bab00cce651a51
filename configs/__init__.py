"""The shipped TOML configs (installed as `painterly_vae.configs`)."""
