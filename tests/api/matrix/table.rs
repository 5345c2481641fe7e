//! The route × principal table: one line per route of `/openapi.json`, one column
//! per kind of principal, the expected status in each cell.
//!
//! How to read a cell:
//! - `401` — the status, for the route run once (its path names nothing anyone owns);
//! - `200|404` — on a route that takes an owned resource: the status with A's resource, then
//!   with B's (A's licence, application, consent, issuer, agency, holder, presentation…);
//! - `401~201` — a known deviation: `401` is what a careful reviewer expects, `201` what the
//!   code answers today. The test passes on the old answer, prints every such cell, and fails
//!   once the code gives the expected one, so that the `~…` is deleted: the list must empty.
//!
//! Lines starting `#` are headings; `//` lines are comments on the route below them (a row
//! with a known deviation must have one, starting `FINDING:` or `PENDING:`). Placeholders in
//! paths are the fixture's resources (`fixture.rs`); a route is matched against the OpenAPI
//! document with its placeholder names ignored.
//!
//! Rows run top to bottom, and in each row refusals before successes: a row that withdraws or
//! closes comes after the rows that read what it withdraws.

use std::fmt;

/// The kinds of principal, in column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    /// No `Authorization` header.
    Anon,
    /// A bearer token nobody was given.
    Wrong,
    /// The admin token.
    Oper,
    /// Issuer A's and issuer B's read tokens.
    IssA,
    IssB,
    /// Agency A (handles matter `MA`), agency B (handles `MB`, not `MA`); both have every scope.
    AgA,
    AgB,
    /// An agency key without any scope.
    AgN,
    /// Agency A's second key, revoked through `POST /v1/agencies/{uscc}/keys/{id}/revoke`.
    AgX,
    /// Holder A (the citizen) and holder B (another person).
    HolA,
    HolB,
    /// Holder A's token whose expiry has passed.
    HolX,
}

pub const COLUMNS: [Who; 12] = [
    Who::Anon,
    Who::Wrong,
    Who::Oper,
    Who::IssA,
    Who::IssB,
    Who::AgA,
    Who::AgB,
    Who::AgN,
    Who::AgX,
    Who::HolA,
    Who::HolB,
    Who::HolX,
];

pub const TABLE: &str = r"
# methodpath                                                anon    wrong   oper    issA    issB    agA     agB     agN     agX     holA    holB    holX
# --- service ---------------------------------------------------------------------------------------------------------------------------------------------
GET    /health                                              200     200     200     200     200     200     200     200     200     200     200     200
GET    /ready                                               200     200     200     200     200     200     200     200     200     200     200     200
GET    /metrics                                             200     200     200     200     200     200     200     200     200     200     200     200
GET    /openapi.json                                        200     200     200     200     200     200     200     200     200     200     200     200
# --- directory (public reads) ----------------------------------------------------------------------------------------------------------------------------
GET    /v1/licence-types                                    200     200     200     200     200     200     200     200     200     200     200     200
GET    /v1/licence-types/{type}                             200     200     200     200     200     200     200     200     200     200     200     200
GET    /v1/licence-types/{type}/versions/{version}/schema   200     200     200     200     200     200     200     200     200     200     200     200
GET    /v1/catalogue.json                                   200     200     200     200     200     200     200     200     200     200     200     200
GET    /v1/catalogue.csv                                    200     200     200     200     200     200     200     200     200     200     200     200
# --- directory upkeep (operator; on a type created for the matrix) ---------------------------------------------------------------------------------------
POST   /v1/licence-types                                    401     401     201     401     401     401     401     401     401     401     401     401
POST   /v1/licence-types/{new_type}/versions                401     401     201     401     401     401     401     401     401     401     401     401
POST   /v1/licence-types/{new_type}/publish                 401     401     200     401     401     401     401     401     401     401     401     401
POST   /v1/licence-types/{new_type}/transfer                401     401     200     401     401     401     401     401     401     401     401     401
POST   /v1/licence-types/{new_type}/deprecate               401     401     200     401     401     401     401     401     401     401     401     401
# --- issuers: public data, and the operator's upkeep on A's and B's issuer -------------------------------------------------------------------------------
GET    /v1/issuers/{issuer}                                 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200
GET    /v1/issuers/{issuer}/head                            200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200
GET    /issuers/{issuer}/did.json                           200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200
GET    /.well-known/did.json                                200     200     200     200     200     200     200     200     200     200     200     200
POST   /v1/issuers                                          401     401     201     401     401     401     401     401     401     401     401     401
POST   /v1/issuers/{issuer}/keys                            401|401 401|401 201|201 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401
POST   /v1/issuers/{issuer}/keys/{issuer_key}/revoke        401|401 401|401 200|200 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401
POST   /v1/issuers/{issuer}/suspend                         401|401 401|401 200|200 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401
POST   /v1/issuers/{issuer}/reinstate                       401|401 401|401 200|200 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401
POST   /v1/issuers/{issuer}/tokens                          401|401 401|401 201|201 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401
# --- authorisations: an issuer reads its own, never another's --------------------------------------------------------------------------------------------
GET    /v1/authorisations?issuer={issuer}                   401|401 401|401 200|200 200|403 403|200 401|401 401|401 401|401 401|401 401|401 401|401 401|401
POST   /v1/authorisations                                   401     401     201     401     401     401     401     401     401     401     401     401
POST   /v1/authorisations/{grant}/withdraw                  401|401 401|401 200|200 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401
# --- the write path and the transparency log (signatures authorise writes; a replay answers its receipt) -------------------------------------------------
POST   /v1/submissions                                      200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200
GET    /v1/log/checkpoint                                   200     200     200     200     200     200     200     200     200     200     200     200
GET    /v1/log/key                                          200     200     200     200     200     200     200     200     200     200     200     200
GET    /v1/log/proof/inclusion?index=0&size=2               200     200     200     200     200     200     200     200     200     200     200     200
GET    /v1/log/proof/consistency?from=1&to=2                200     200     200     200     200     200     200     200     200     200     200     200
GET    /v1/log/entries?start=0&count=2                      200     200     200     200     200     200     200     200     200     200     200     200
GET    /v1/trust-bundle                                     200     200     200     200     200     200     200     200     200     200     200     200
GET    /v1/status-lists/{issuer}/{purpose}/{list}           200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200
# --- licence records: the operator, and the issuer of the licence ----------------------------------------------------------------------------------------
GET    /v1/licences/{licence}                               401|401 401|401 200|200 200|403 403|200 401|401 401|401 401|401 401|401 401|401 401|401 401|401
# --- verification: anyone; a presented token must be an agency key with the verify scope -----------------------------------------------------------------
POST   /v1/verify                                           200|200 401|401 401|401 401|401 401|401 200|200 200|200 403|403 401|401 401|401 401|401 401|401
POST   /v1/verify/batch                                     200|200 401|401 401|401 401|401 401|401 200|200 200|200 403|403 401|401 401|401 401|401 401|401
GET    /v1/licences/{licence}/status                        200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200
POST   /credentials/verify                                  200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200
// The hosted interoperability issuer signs for the operator or the configured client token only.
POST   /credentials/issue                                   401     401     201     401     401     401     401     401     401     401     401     401
# --- agencies and holder tokens (operator) ---------------------------------------------------------------------------------------------------------------
POST   /v1/agencies                                         401     401     201     401     401     401     401     401     401     401     401     401
GET    /v1/agencies/{agency}                                401|401 401|401 200|200 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401
POST   /v1/agencies/{agency}/keys                           401|401 401|401 201|201 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401
POST   /v1/agencies/{agency}/keys/{agency_key}/revoke       401|401 401|401 200|200 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401
POST   /v1/holders/{holder}/tokens                          401|401 401|401 201|201 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401
GET    /v1/stats                                            401     401     200     401     401     401     401     401     401     401     401     401
# --- matters and applications: the handling agency alone -------------------------------------------------------------------------------------------------
GET    /v1/matters                                          200     200     200     200     200     200     200     200     200     200     200     200
POST   /v1/matters                                          401     401     201     401     401     401     401     401     401     401     401     401
POST   /v1/applications                                     401|401 401|401 401|401 401|401 401|401 201|403 403|201 403|403 401|401 401|401 401|401 401|401
GET    /v1/applications/{application}                       401|401 401|401 401|401 401|401 401|401 200|404 404|200 403|403 401|401 401|401 401|401 401|401
# --- applications: the holder applies, approves or declines; only then may the handling agency read ---------------------------------------------------------
GET    /v1/holder/applications                              401     401     401     401     401     401     401     401     401     200     200     401
GET    /v1/holder/applications/{application}                401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 200|404 404|200 401|401
POST   /v1/holder/applications/{application}/approve        401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 200|404 404|200 401|401
// Approved above, so no longer pending: the holder's own answers 409, another's as a missing one.
POST   /v1/holder/applications/{application}/decline        401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 409|404 404|409 401|401
POST   /v1/holder/applications                              401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 201|404 404|201 401|401
GET    /v1/applications/{application}/licences/{licence}    401|401 401|401 401|401 401|401 401|401 200|404 404|200 403|403 401|401 401|401 401|401 401|401
# --- consents: the holder grants, the agency reads under it ----------------------------------------------------------------------------------------------
GET    /v1/agency/licences/{licence}                        401|401 401|401 401|401 401|401 401|401 200|403 403|200 403|403 401|401 401|401 401|401 401|401
POST   /v1/consents                                         401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 201|404 404|201 401|401
# --- the holder's own ------------------------------------------------------------------------------------------------------------------------------------
GET    /v1/holder/licences                                  401     401     401     401     401     401     401     401     401     200     200     401
GET    /v1/holder/licences/{licence}                        401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 200|404 404|200 401|401
GET    /v1/holder/licences/{licence}/offline-qr.svg         401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 200|404 404|200 401|401
GET    /v1/holder/licences/{licence}/offline-qr.png         401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 200|404 404|200 401|401
GET    /v1/holder/access-records                            401     401     401     401     401     401     401     401     401     200     200     401
GET    /v1/holder/consents                                  401     401     401     401     401     401     401     401     401     200     200     401
# --- presentations: the holder creates, anyone with the token scans --------------------------------------------------------------------------------------
POST   /v1/presentations                                    401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 201|404 404|201 401|401
GET    /p/{presentation}                                    200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200
GET    /v1/presentations/{presentation}/qr.svg              200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200
GET    /v1/presentations/{presentation}/qr.png              200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200 200|200
# --- last: what withdraws or closes what the rows above read ---------------------------------------------------------------------------------------------
DELETE /v1/consents/{consent}                               401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 200|404 404|200 401|401
POST   /v1/holder/applications/{application}/withdraw       401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 401|401 200|404 404|200 401|401
POST   /v1/applications/{application}/close                 401|401 401|401 401|401 401|401 401|401 200|404 404|200 403|403 401|401 401|401 401|401 401|401
";

/// Which resources a run uses: A's, B's, or ones that do not exist shaped like A's or B's
/// (same issuer segment, same matter), to check that "not yours" answers as "missing".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    A,
    B,
    MissingA,
    MissingB,
}

impl Side {
    /// The side whose resources a missing one is shaped like.
    pub fn shape(self) -> Side {
        match self {
            Side::MissingA => Side::A,
            Side::MissingB => Side::B,
            own => own,
        }
    }
}

/// One cell: the expected status, and today's answer when it is a known deviation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub expected: u16,
    pub today: Option<u16>,
}

impl Cell {
    /// The status the test accepts now.
    pub fn accepted(self) -> u16 {
        self.today.unwrap_or(self.expected)
    }
}

/// One line of [`TABLE`].
#[derive(Debug, Clone)]
pub struct Row {
    pub method: String,
    /// With the fixture's placeholders, and any query string.
    pub path: String,
    /// Per column: the cell with A's resource and, for a sided row, with B's.
    pub cells: Vec<(Cell, Option<Cell>)>,
    pub comment: Option<String>,
}

impl Row {
    /// Whether the row runs with A's and with B's resources.
    pub fn sided(&self) -> bool {
        self.cells.iter().any(|(_, b)| b.is_some())
    }

    pub fn cell(&self, who: Who, side: Side) -> Cell {
        let index = COLUMNS.iter().position(|w| *w == who).unwrap_or(0);
        let (a, b) = self.cells[index];
        match side.shape() {
            Side::B => b.unwrap_or(a),
            _ => a,
        }
    }

    /// `(METHOD, template)` with every placeholder written `{}` and no query string.
    pub fn route(&self) -> (String, String) {
        (self.method.clone(), normalise(&self.path))
    }
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// `/v1/x/{id}?q={y}` → `/v1/x/{}`.
pub fn normalise(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    path.split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// Parses [`TABLE`]; panics naming the line it cannot read.
pub fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    let mut comment: Vec<&str> = Vec::new();
    for line in TABLE.lines().map(str::trim) {
        if let Some(text) = line.strip_prefix("//") {
            comment.push(text.trim());
        } else if !line.is_empty() && !line.starts_with('#') {
            let note = (!comment.is_empty()).then(|| comment.join(" "));
            let row = parse_row(line, note).unwrap_or_else(|e| panic!("table line {line:?}: {e}"));
            rows.push(row);
            comment.clear();
        }
    }
    rows
}

/// One route's line; `comment` is the `//` lines just above it.
fn parse_row(line: &str, comment: Option<String>) -> Result<Row, String> {
    let mut words = line.split_whitespace();
    let method = words.next().ok_or("no method")?.to_owned();
    let path = words.next().ok_or("no path")?.to_owned();
    let cells = words.map(parse_sided).collect::<Result<Vec<_>, _>>()?;
    if cells.len() != COLUMNS.len() {
        return Err(format!("{} cells, not {}", cells.len(), COLUMNS.len()));
    }
    let any_deviation = cells
        .iter()
        .any(|(a, b)| a.today.is_some() || b.is_some_and(|b| b.today.is_some()));
    if any_deviation && comment.is_none() {
        return Err("a known deviation needs a `// FINDING:` or `// PENDING:` comment".into());
    }
    Ok(Row {
        method,
        path,
        cells,
        comment,
    })
}

fn parse_sided(text: &str) -> Result<(Cell, Option<Cell>), String> {
    match text.split_once('|') {
        Some((a, b)) => Ok((parse_cell(a)?, Some(parse_cell(b)?))),
        None => Ok((parse_cell(text)?, None)),
    }
}

fn parse_cell(text: &str) -> Result<Cell, String> {
    let status = |s: &str| s.parse::<u16>().map_err(|_| format!("cell {text:?}"));
    match text.split_once('~') {
        Some((expected, today)) => Ok(Cell {
            expected: status(expected)?,
            today: Some(status(today)?),
        }),
        None => Ok(Cell {
            expected: status(text)?,
            today: None,
        }),
    }
}

/// Routes the application serves that `/openapi.json` does not describe (the HTML pages and
/// their forms, the stylesheet). The test fails when one of them appears in the document: then
/// it belongs in [`TABLE`].
pub const SERVED_OUTSIDE_OPENAPI: [(&str, &str); 9] = [
    ("GET", "/"),
    ("GET", "/catalogue"),
    ("GET", "/catalogue/{code}"),
    ("GET", "/holder"),
    ("POST", "/holder/login"),
    ("POST", "/holder/logout"),
    ("POST", "/holder/presentations"),
    ("GET", "/holder/licences/{id}/offline-qr.svg"),
    ("GET", "/static/style.css"),
];
