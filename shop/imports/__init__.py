"""Importing what a shop already has, from the CSV files it keeps or its platform exports."""
