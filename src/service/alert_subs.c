/*
 * alert_subs.c - the alert subscribers of the API (manager.h: tidm_manager_alert_sub_*):
 * checked, their shared secrets sealed (secrets.h), kept in the store (store.h). Answers
 * never hold a secret, only whether there is one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/manager_int.h"
#include "util/err.h"

static json_t *sub_json(const tidm_store_sub *s)
{
	bool mail = !strcmp(s->kind, "email");

	return json_pack("{s:I, s:s, s:s, s:b, s:o}", "id", (json_int_t)s->id, "kind", s->kind, mail ? "address" : "url",
			 s->target, "has_secret", s->secret != NULL, "created_at", mgr_time_json(s->created_at));
}

/* Printable ASCII without spaces (and, for addresses, without the characters that would
 * make a second recipient or a header). */
static bool plain_text(const char *s, const char *forbidden)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || strchr(forbidden, *s))
			return false;
	return true;
}

int tidm_manager_alert_sub_create(tidm_manager *m, const char *body, size_t len, json_t **out)
{
	json_error_t je;
	json_t *d, *v, *sv = NULL;
	const char *kind, *key, *target, *secret = NULL;
	tidm_store_sub sub;
	char *sealed = NULL;
	bool mail;
	int rc;

	mgr_err_begin();
	*out = NULL;
	d = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
	if (!d) {
		mgr_err_field(NULL, true);
		return tidm_err_set(TIDM_EINVAL, "malformed JSON at line %d, column %d (byte %d): %s", je.line, je.column,
				    je.position, je.text);
	}
	if (!json_is_object(d)) {
		json_decref(d);
		mgr_err_field(NULL, true);
		return tidm_err_set(TIDM_EINVAL, "the body must be a JSON object: {\"kind\": \"webhook\", \"url\", \"secret\"} "
						 "or {\"kind\": \"email\", \"address\"}");
	}
	v = json_object_get(d, "kind");
	kind = json_string_value(v);
	if (!kind || (strcmp(kind, "webhook") != 0 && strcmp(kind, "email") != 0)) {
		mgr_err_field("kind", false);
		rc = tidm_err_set(TIDM_EINVAL, "kind is required: \"webhook\" or \"email\"");
		goto out;
	}
	mail = !strcmp(kind, "email");
	json_object_foreach(d, key, v) {
		if (strcmp(key, "kind") != 0 && strcmp(key, mail ? "address" : "url") != 0 &&
		    (mail || strcmp(key, "secret") != 0)) {
			mgr_err_field(key, false);
			rc = tidm_err_set(TIDM_EINVAL, "unknown field %.64s for a subscription of kind %s; expected %s", key,
					  kind, mail ? "kind and address" : "kind, url and secret");
			goto out;
		}
	}
	target = json_string_value(json_object_get(d, mail ? "address" : "url"));
	if (mail) {
		const char *at = target ? strchr(target, '@') : NULL;
		if (!target || strlen(target) > 254 || !at || at == target || !at[1] || strchr(at + 1, '@') ||
		    !plain_text(target, ",;<>\"()[]\\:")) {
			mgr_err_field("address", false);
			rc = tidm_err_set(TIDM_EINVAL, "address is required: one e-mail address such as ops@example.com "
						       "(no spaces, commas or names)");
			goto out;
		}
	} else {
		if (!target || strlen(target) > 2048 || (strncmp(target, "http://", 7) != 0 &&
							 strncmp(target, "https://", 8) != 0) ||
		    !plain_text(target, "")) {
			mgr_err_field("url", false);
			rc = tidm_err_set(TIDM_EINVAL, "url is required: an http:// or https:// URL without spaces, at most "
						       "2048 characters");
			goto out;
		}
		sv = json_object_get(d, "secret");
		secret = json_string_value(sv);
		if (!secret || json_string_length(sv) < 16 || json_string_length(sv) > 1024) {
			mgr_err_field("secret", false);
			rc = tidm_err_set(TIDM_EINVAL, "secret is required for a webhook: 16 to 1024 bytes the receiver also "
						       "knows (it keys the X-Tidm-Signature HMAC)");
			goto out;
		}
		if ((rc = tidm_secrets_seal(m->secrets, secret, json_string_length(sv), &sealed)) < 0)
			goto out;
	}
	memset(&sub, 0, sizeof(sub));
	snprintf(sub.kind, sizeof(sub.kind), "%s", kind);
	sub.target = (char *)target;
	sub.secret = sealed;
	sub.created_at = mgr_now_ms();
	if ((rc = tidm_store_sub_create(m->store, &sub)) == 0)
		*out = sub_json(&sub);
out:
	if (secret)
		explicit_bzero((char *)json_string_value(sv), json_string_length(sv));
	free(sealed);
	json_decref(d);
	return rc;
}

int tidm_manager_alert_sub_list(tidm_manager *m, json_t **out)
{
	tidm_store_sub *subs = NULL;
	size_t n = 0;
	json_t *arr;
	int rc;

	mgr_err_begin();
	*out = NULL;
	if ((rc = tidm_store_sub_list(m->store, &subs, &n)) < 0)
		return rc;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, sub_json(&subs[i]));
	tidm_store_subs_free(subs, n);
	*out = json_pack("{s:o}", "subscriptions", arr);
	return 0;
}

int tidm_manager_alert_sub_delete(tidm_manager *m, const char *id)
{
	char *end = NULL;
	long long v;

	mgr_err_begin();
	v = id ? strtoll(id, &end, 10) : 0;
	if (!id || !*id || *end || v <= 0)
		return tidm_err_set(TIDM_ENOTFOUND, "no alert subscription %.40s: ids are positive integers (GET "
						    "/api/v1/alerts/subscriptions lists them)",
				    id ? id : "");
	return tidm_store_sub_delete(m->store, v);
}
