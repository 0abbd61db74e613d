"""`cencomm backup` and `cencomm restore`: a consistent online copy of a server's state (database,
key material, attachment blobs, audit checkpoint file) and its return into an empty place."""
