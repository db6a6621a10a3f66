"""The embedded synthetic world: a deterministic stand-in for Flickr, UCF101, HMDB51 and Kinetics.

It lets the whole workflow run offline on a CPU. Every item is drawn from a random generator seeded
by (world seed, stream, item index), so any item can be regenerated alone and in any order.
"""
