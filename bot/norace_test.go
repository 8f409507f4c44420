//go:build !race

package bot

import "time"

// renderBound is generous for a slow CI machine: it takes well under a second here.
const renderBound = 10 * time.Second
