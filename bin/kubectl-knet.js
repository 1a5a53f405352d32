#!/usr/bin/env node
// kubectl plugin entry point: `kubectl knet …` runs this file with the same arguments.
import './knet.js';
