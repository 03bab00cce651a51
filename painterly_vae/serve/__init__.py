"""`painterly-vae serve`: a local page where a painting is dropped and the run says who, why and how sure."""
