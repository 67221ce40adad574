/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The screening questions asked before a session, from the seed articles' lists of when not to
 * massage (seeds 000, 001, 002) and when to be careful (seed 001; seed 000 on cartilage damage).
 * An answer "yes" to one of them either refuses the session or lowers its caps; the policy says
 * which.
 */

typedef enum Screening {
        SCREENING_RECENT_INJURY,
        SCREENING_SWELLING_REDNESS_HEAT,
        SCREENING_DVT_SUSPECTED,
        SCREENING_INFECTION_FEVER,
        SCREENING_RECENT_SURGERY,
        SCREENING_OPEN_WOUND,
        SCREENING_VARICOSE_VEINS,
        SCREENING_BLOOD_THINNERS,
        SCREENING_BLEEDING_DISORDER,
        SCREENING_SEVERE_OSTEOPOROSIS,
        SCREENING_CARTILAGE_DAMAGE,
        SCREENING_MAX,
} Screening;

const char *screening_to_string(Screening s);
/* Returns the question or -EINVAL. */
int screening_from_string(const char *s);
/* The question as kneectl asks it. */
const char *screening_question(Screening s);
