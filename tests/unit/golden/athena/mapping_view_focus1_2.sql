CREATE OR REPLACE VIEW "cur"."finops_line_items" AS
SELECT
  t."billedcost" AS "BilledCost",
  t."effectivecost" AS "EffectiveCost",
  t."listcost" AS "ListCost",
  t."contractedcost" AS "ContractedCost",
  t."chargeperiodstart" AS "ChargePeriodStart",
  t."chargeperiodend" AS "ChargePeriodEnd",
  t."billingperiodstart" AS "BillingPeriodStart",
  t."billingperiodend" AS "BillingPeriodEnd",
  t."billingaccountid" AS "BillingAccountId",
  t."billingaccountname" AS "BillingAccountName",
  t."billingcurrency" AS "BillingCurrency",
  t."chargecategory" AS "ChargeCategory",
  t."chargeclass" AS "ChargeClass",
  t."chargefrequency" AS "ChargeFrequency",
  t."chargedescription" AS "ChargeDescription",
  t."pricingcategory" AS "PricingCategory",
  t."pricingquantity" AS "PricingQuantity",
  t."pricingunit" AS "PricingUnit",
  t."consumedquantity" AS "ConsumedQuantity",
  t."consumedunit" AS "ConsumedUnit",
  t."providername" AS "ProviderName",
  t."publishername" AS "PublisherName",
  t."invoiceissuername" AS "InvoiceIssuerName",
  t."servicename" AS "ServiceName",
  t."servicecategory" AS "ServiceCategory",
  t."subaccountid" AS "SubAccountId",
  t."subaccountname" AS "SubAccountName",
  t."regionid" AS "RegionId",
  t."regionname" AS "RegionName",
  t."availabilityzone" AS "AvailabilityZone",
  t."resourceid" AS "ResourceId",
  t."resourcename" AS "ResourceName",
  t."resourcetype" AS "ResourceType",
  t."skuid" AS "SkuId",
  t."skupriceid" AS "SkuPriceId",
  t."skumeter" AS "SkuMeter",
  t."commitmentdiscountid" AS "CommitmentDiscountId",
  t."commitmentdiscountname" AS "CommitmentDiscountName",
  t."commitmentdiscounttype" AS "CommitmentDiscountType",
  t."commitmentdiscountstatus" AS "CommitmentDiscountStatus",
  t."commitmentdiscountcategory" AS "CommitmentDiscountCategory",
  CASE WHEN CARDINALITY(t.tags) > 0 THEN JSON_FORMAT(CAST(t.tags AS JSON)) END AS "Tags",
  CAST(NULL AS VARCHAR) AS "ServiceProviderName",
  CAST(NULL AS VARCHAR) AS "HostProviderName",
  CAST(NULL AS VARCHAR) AS "AllocatedMethodId",
  CAST(NULL AS VARCHAR) AS "AllocatedMethodDetails",
  CAST(NULL AS VARCHAR) AS "AllocatedResourceId",
  CAST(NULL AS VARCHAR) AS "AllocatedResourceName",
  CAST(NULL AS VARCHAR) AS "AllocatedTags",
  t."x_usagetype" AS "x_UsageType",
  t."x_operation" AS "x_Operation",
  CASE
    WHEN CARDINALITY(t.x_costcategories) > 0
    THEN JSON_FORMAT(CAST(t.x_costcategories AS JSON))
  END AS "x_CostCategories",
  CAST(NULL AS TIMESTAMP) AS "x_CommitmentStart",
  CAST(NULL AS TIMESTAMP) AS "x_CommitmentEnd",
  CAST(NULL AS DOUBLE) AS "x_CommitmentHourly",
  CAST(NULL AS VARCHAR) AS "x_SplitParentResourceId",
  CAST(NULL AS DOUBLE) AS "x_SplitCost",
  CAST(NULL AS DOUBLE) AS "x_SplitUnusedCost",
  CAST(NULL AS DOUBLE) AS "x_SplitNetSplitCost",
  CAST(NULL AS DOUBLE) AS "x_SplitNetUnusedCost",
  CAST(NULL AS DOUBLE) AS "x_SplitUsage",
  CAST(NULL AS DOUBLE) AS "x_SplitUsageRatio",
  CAST(NULL AS DOUBLE) AS "x_SplitReservedUsage",
  CAST(NULL AS DOUBLE) AS "x_SplitActualUsage",
  CAST(NULL AS VARCHAR) AS "x_ContainerCluster",
  CAST(NULL AS VARCHAR) AS "x_ContainerNamespace",
  CAST(NULL AS VARCHAR) AS "x_Extras",
  CAST(t."chargeperiodstart" AS DATE) AS charge_date,
  NULLIF(
    TRIM(
      ELEMENT_AT(
        t.tags,
        ARRAY_MIN(
          FILTER(
            MAP_KEYS(t.tags),
            k -> LOWER(TRIM(REGEXP_REPLACE(k, '^user[_:]', ''))) IN ('team')
            AND NOT NULLIF(TRIM(ELEMENT_AT(t.tags, k)), '') IS NULL
          )
        )
      )
    ),
    ''
  ) AS tag_team,
  NULLIF(
    TRIM(
      ELEMENT_AT(
        t.tags,
        ARRAY_MIN(
          FILTER(
            MAP_KEYS(t.tags),
            k -> LOWER(TRIM(REGEXP_REPLACE(k, '^user[_:]', ''))) IN ('env', 'environment')
            AND NOT NULLIF(TRIM(ELEMENT_AT(t.tags, k)), '') IS NULL
          )
        )
      )
    ),
    ''
  ) AS tag_environment,
  NULLIF(
    TRIM(
      ELEMENT_AT(
        t.tags,
        ARRAY_MIN(
          FILTER(
            MAP_KEYS(t.tags),
            k -> LOWER(TRIM(REGEXP_REPLACE(k, '^user[_:]', ''))) IN ('service')
            AND NOT NULLIF(TRIM(ELEMENT_AT(t.tags, k)), '') IS NULL
          )
        )
      )
    ),
    ''
  ) AS tag_service,
  NULLIF(
    TRIM(
      ELEMENT_AT(
        t.tags,
        ARRAY_MIN(
          FILTER(
            MAP_KEYS(t.tags),
            k -> LOWER(TRIM(REGEXP_REPLACE(k, '^user[_:]', ''))) IN ('cost center', 'cost-center', 'cost_center', 'costcenter')
            AND NOT NULLIF(TRIM(ELEMENT_AT(t.tags, k)), '') IS NULL
          )
        )
      )
    ),
    ''
  ) AS tag_cost_center,
  NULLIF(
    TRIM(
      ELEMENT_AT(
        t.tags,
        ARRAY_MIN(
          FILTER(
            MAP_KEYS(t.tags),
            k -> LOWER(TRIM(REGEXP_REPLACE(k, '^user[_:]', ''))) IN ('owner')
            AND NOT NULLIF(TRIM(ELEMENT_AT(t.tags, k)), '') IS NULL
          )
        )
      )
    ),
    ''
  ) AS tag_owner,
  t.billing_period AS billing_period
FROM cur.cur2_export AS t
