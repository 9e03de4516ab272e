package statement_test

import "time"

var zeroTime time.Time
