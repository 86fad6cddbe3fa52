/* tljson.c - a saved timeline.json read back into a timeline, so a run can be judged again
 * offline (selftest's mutations, a support engineer re-judging a customer's run). */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "analysis_int.h"

int conform_timeline_add_events_json(struct conform_timeline *t, const json_t *events, char *err,
                                     size_t errlen)
{
	const json_t *ev;
	size_t i;

	if (!t || !events)
		return EINVAL;
	if (!json_is_array(events)) {
		snprintf(err, errlen, "timeline: an array of events expected");
		return EINVAL;
	}
	/* Check every event first: a bad one leaves the timeline as it was. */
	json_array_foreach(events, i, ev)
	{
		const json_t *when = json_object_get(ev, "t");

		if (!json_is_object(ev) || !json_is_number(when) ||
		    !isfinite(json_number_value(when)) ||
		    !json_is_string(json_object_get(ev, "kind"))) {
			snprintf(err, errlen,
			         "timeline: $[%zu]: an object with number t and string "
			         "kind expected",
			         i);
			return EINVAL;
		}
	}
	json_array_foreach(events, i, ev)
	{
		/* Shared, not copied: the timeline only reads its events. */
		int e = tl_add_json_event(t, json_number_value(json_object_get(ev, "t")),
		                          json_incref((json_t *)ev));

		if (e == ENOMEM) {
			snprintf(err, errlen, "timeline: out of memory");
			return e;
		}
	}
	t->sorted = false;
	return 0;
}
