"""Posting plan items to Instagram, TikTok and YouTube through their official APIs: OAuth for a
desktop app (``oauth``), one client per platform, and the ``publish-post`` job (``service``)."""
