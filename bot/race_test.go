//go:build race

package bot

import "time"

// renderBound is generous: the race detector slows the code several times.
const renderBound = 60 * time.Second
