#!/bin/sh
# Fixture application: prints a greeting and exits.
echo "hello from layerguard fixture"
