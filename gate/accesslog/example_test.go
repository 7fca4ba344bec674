package accesslog_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/facegate/facegate/gate/accesslog"
	"github.com/facegate/facegate/gate/records/recordstest"
)

// A log links events to a subject only inside the retention window.
func ExampleLog() {
	now := time.Date(2026, 11, 24, 7, 45, 10, 0, time.UTC)
	log, err := accesslog.New(recordstest.New(), accesslog.Options{
		Clock:     func() time.Time { return now },
		Retention: 7 * 24 * time.Hour,
	})
	if err != nil {
		panic(err)
	}
	log.Append(accesslog.Entry{Gate: "north", Method: "card", Admitted: true, Subject: "flat-12b"})
	events, _ := log.Find("flat-12b")
	fmt.Println(len(events), events[0].Time.Format(time.DateTime), events[0].Method)

	day := now
	now = now.Add(7 * 24 * time.Hour) // a week later
	log.Expire()
	_, err = log.Pseudonym("flat-12b", day)
	fmt.Println(errors.Is(err, accesslog.ErrKeyDestroyed))
	events, _ = log.Find("flat-12b")
	fmt.Println(len(events))
	// Output:
	// 1 2026-11-24 07:45:00 card
	// true
	// 0
}
