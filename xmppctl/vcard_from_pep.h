// The vcard-temp <vCard/> of a Prosody user whose vCard lives in PEP: Prosody 0.12's default
// mod_vcard_legacy keeps it as the XEP-0292 node urn:xmpp:vcard4 and the photo as the XEP-0084
// avatar nodes, and builds a vcard-temp answer from those on each get. xmppd's vcard_legacy
// serves vcard-temp from its own store, so xmppctl import prosody builds that answer once,
// field for field as Prosody would, and stores it. The items come from Prosody's data files
// (written by a network-facing server): nothing in them is trusted.
#pragma once

#include <optional>
#include <vector>

#include "xml/element.h"
#include "xmppctl/prosody_user.h"

namespace xmppd::ctl::prosody_import {

// nullopt when the user has neither a vcard4 item nor avatar metadata with an <info/>: their
// vcard-temp was, and stays, empty. Otherwise the <vCard/> Prosody's mod_vcard_legacy answers
// a vcard-temp get with: FN and N (always, empty when unset), NICKNAME, TITLE, ROLE,
// CATEGORIES, NOTE, URL, BDAY, EMAIL, TEL, ADR, JABBERID (xmpp: IMPP) and ORG from the vcard4
// item (or NICKNAME from the XEP-0172 nick when there is none), and PHOTO from the newest
// avatar metadata: TYPE, and the BINVAL of the data item it names, or the EXTVAL of its url.
// Only nodes open to anyone count (xmppd serves vcard-temp to anyone; Prosody asked each
// node with the reader's access). A node that is not, or a BINVAL that is not base64, adds a
// line to `warnings`, and what it held is left out.
std::optional<xml::Element> vcard_from_pep(const std::vector<PepNode>& nodes, std::string& warnings);

}  // namespace xmppd::ctl::prosody_import
