//go:build race

package main

// raceEnabled: the race detector makes the program several times slower, so that time
// bounds meant for a normal build are scaled (see bound).
const raceEnabled = true
