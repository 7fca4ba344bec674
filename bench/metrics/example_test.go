package metrics_test

import (
	"fmt"

	"github.com/facegate/facegate/bench/metrics"
)

func ExampleROC() {
	genuine := []float32{0.1, 0.2, 0.3, 0.6}       // same-person distances
	impostor := []float32{0.4, 0.5, 0.7, 0.8, 0.9} // different-person distances
	c, err := metrics.ROC(genuine, impostor)
	if err != nil {
		panic(err)
	}
	e, _ := c.EqualErrorRate()
	fmt.Printf("EER %.2f at threshold %.3f\n", e.Rate, e.Threshold)
	a, _ := c.TARAtFAR(0.2)
	fmt.Printf("TAR %.2f at FAR %.2f, threshold %.1f, %d/%d impostor pairs accepted, enough pairs: %v\n",
		a.TAR, a.FAR, a.Threshold, a.ImpostorAccepted, a.Impostor, a.Enough)
	a, _ = c.TARAtFAR(0.01)
	fmt.Printf("FAR 1 %% needs %d impostor pairs, have %d: enough %v\n", a.MinImpostor, a.Impostor, a.Enough)
	// Output:
	// EER 0.25 at threshold 0.425
	// TAR 0.75 at FAR 0.20, threshold 0.4, 1/5 impostor pairs accepted, enough pairs: true
	// FAR 1 % needs 100 impostor pairs, have 5: enough false
}

func ExampleLabels_Impostors() {
	// Six faces of three people; people 0 and 1 in group 0, person 2 in group 1.
	l := metrics.Labels{
		Identity: []int{0, 0, 1, 1, 2, 2},
		Group:    []int{0, 0, 0, 0, 1, 1},
	}
	all, _ := l.Impostors(metrics.AllGroups, 100, 1) // affordable: every pair
	fmt.Println(all.Len(), all.Sampled())
	cross, _ := l.Impostors(metrics.CrossGroup, 3, 1) // 8 pairs, 3 drawn
	again, _ := l.Impostors(metrics.CrossGroup, 3, 1)
	fmt.Println(cross.Total, cross.Len(), cross.Sampled(), fmt.Sprint(cross.Pairs) == fmt.Sprint(again.Pairs))
	// Output:
	// 12 false
	// 8 3 true true
}
