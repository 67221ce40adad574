/* SPDX-License-Identifier: MIT */

#include <errno.h>

#include "macro.h"
#include "screening.h"

static const struct {
        const char *name;
        const char *question;
} screenings[SCREENING_MAX] = {
        [SCREENING_RECENT_INJURY] =
                {"recent-injury", "Have you injured this leg recently (a fall, a twist, a knock)?"},
        [SCREENING_SWELLING_REDNESS_HEAT] =
                {"swelling-redness-heat", "Is the knee or leg swollen, red or warm to the touch?"},
        [SCREENING_DVT_SUSPECTED] =
                {"dvt-suspected",
                 "Could you have a blood clot: sudden calf pain, swelling or redness?"},
        [SCREENING_INFECTION_FEVER] = {"infection-fever", "Do you have an infection or a fever?"},
        [SCREENING_RECENT_SURGERY] = {"recent-surgery",
                                      "Have you had surgery on this leg recently?"},
        [SCREENING_OPEN_WOUND] =
                {"open-wound", "Is there broken skin, a rash or a wound where the device will go?"},
        [SCREENING_VARICOSE_VEINS] = {"varicose-veins", "Do you have varicose veins on this leg?"},
        [SCREENING_BLOOD_THINNERS] = {"blood-thinners", "Do you take blood thinners?"},
        [SCREENING_BLEEDING_DISORDER] = {"bleeding-disorder", "Do you have a bleeding disorder?"},
        [SCREENING_SEVERE_OSTEOPOROSIS] = {"severe-osteoporosis",
                                           "Do you have severe osteoporosis?"},
        [SCREENING_CARTILAGE_DAMAGE] = {"cartilage-damage",
                                        "Has a doctor found cartilage damage in this knee?"},
};

const char *screening_to_string(Screening s)
{
        return s < SCREENING_MAX ? screenings[s].name : NULL;
}

const char *screening_question(Screening s)
{
        return s < SCREENING_MAX ? screenings[s].question : NULL;
}

int screening_from_string(const char *s)
{
        for (int i = 0; i < SCREENING_MAX; i++)
                if (streq(s, screenings[i].name))
                        return i;
        return -EINVAL;
}
