"""Face identity: is it still her? Descriptors of faces, distances to an influencer's references."""
