// In-scope suppliers by sector: suppliers located in the named provinces (compared
// case-insensitively, names or ISO codes) or countries, optionally of one sector.
// Parameters:
//   $provinces (list, default Liaoning,Jilin,CN-LN,CN-JL): province names or codes
//   $countries (list, default KP): ISO country codes that are in scope as a whole
//   $sector (str, default ""): only this sector ("" = every sector)
//   $limit (int, default 1000): how many suppliers to list
// Returns: sector, id, name, country, province, address
MATCH (s:Supplier)
WHERE (toLower(s.province) IN [p IN $provinces | toLower(p)] OR s.country IN $countries)
  AND ($sector = '' OR s.sector = $sector)
RETURN s.sector AS sector, s.id AS id, s.name AS name, s.country AS country,
       s.province AS province, s.address AS address
ORDER BY sector ASC, name ASC, id ASC
LIMIT $limit
