/* SPDX-License-Identifier: GPL-3.0-or-later */
/* choices.h (internal): the allowed words of a string parameter. */
#ifndef SHOAL_CHOICES_H
#define SHOAL_CHOICES_H

/* Is word one of the '|'-separated choices ("wolff|metropolis")? */
int shoal__choice_ok(const char *choices, const char *word);

#endif
