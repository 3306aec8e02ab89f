SELECT COUNT(*) FROM (SELECT 1 FROM "cur"."finops_line_items" AS line_items WHERE NOT ResourceId IS NULL AND ResourceId <> '' LIMIT 1)
