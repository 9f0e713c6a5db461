"""The LoRA library: files read without torch, families from their metadata, imports, and what
Generate offers (the influencer's active LoRA first, the chosen family only)."""
