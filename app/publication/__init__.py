"""Catalogue publication: the catalogue as monthly files (CSV, JSON) and Atom feeds of new
courses.  Reads the catalogue through its service, and searches through the search
service; keeps no table of its own."""
