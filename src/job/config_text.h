/*
 * config_text.h - private to src/job/: the job file's text, for messages (config.c).
 *   tidm_config_clean_yaml_message  libfyaml's message without quoted excerpts of the input
 *                                   longer than two bytes (they could hold part of a password)
 *   tidm_config_has_content         does the text hold anything but blanks and comments?
 */
#ifndef TIDM_JOB_CONFIG_TEXT_H
#define TIDM_JOB_CONFIG_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

void tidm_config_clean_yaml_message(tidm_buf *b, const char *msg);
bool tidm_config_has_content(const char *text, size_t len);

#endif
