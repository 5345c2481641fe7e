//! The preset DEFLATE dictionary of offline payload version 1 (`EL1:`).
//!
//! A licence is mostly the same skeleton (contexts, member names, DID and URN prefixes, the
//! proof's fixed members) around a little personal data. Priming the compressor's window with
//! that skeleton, the seeded schemas' member names and common words of Chinese licences halves
//! the compressed size (see the README, "The offline payload"). The dictionary is part of the format: changing one
//! byte of it needs a new prefix (`EL2:`), and these bytes are frozen for `EL1:`. Strings used
//! most come last, where matches are nearest and cheapest. No registry host is in it: a
//! licence repeats its own host, so the second and later mentions compress anyway.

/// The dictionary bytes (UTF-8), concatenated without separators.
pub const DICTIONARY: &[u8] = concat!(
    "有限责任公司（自然人投资或控股）股份有限公司个体工商户经营范围一般项目：技术服务、技术开发、技术咨询；（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）",
    "不动产权第号国有建设用地使用权/房屋所有权出让/市场化商品房城镇住宅用地/住宅单独所有共同共有按份共有",
    "专职律师律师事务所执业医师临床内科专业医院卫生健康委员会出生医学证明食品销售经营者餐饮服务经营者预包装食品销售热食类食品制售",
    "汉族中国男女长期省市区县镇乡街道路号楼栋单元室层",
    "人民政府公安局交通警察支队民政局司法厅自然资源局住房和城乡建设厅市场监督管理局分局",
    "北京市天津市上海市重庆市河北省山西省辽宁省吉林省黑龙江省江苏省浙江省安徽省福建省江西省山东省河南省湖北省湖南省广东省海南省四川省贵州省云南省陕西省甘肃省青海省内蒙古自治区广西壮族自治区西藏自治区宁夏回族自治区新疆维吾尔自治区长春市朝阳区",
    "\"archiveNumber\":\"\",\"birthPlace\":\"\",\"birthWeightGrams\":,\"bornAt\":\"\",\"buildingArea\":,\"businessFormat\":\"\",\"businessItems\":[\"\",\"businessScope\":\"\",\"coOwnership\":\"\",\"economicType\":\"\",\"entityType\":\"\",\"establishedOn\":\"\",\"ethnicity\":\"\",\"fatherName\":\"\",\"firstIssuedOn\":\"\",\"gestationalWeeks\":,\"hukouAddress\":\"\",\"idNumber\":\"\",\"landArea\":,\"landUseUntil\":\"\",\"lastEndorsedOn\":\"\",\"lawFirm\":\"\",\"location\":\"\",\"medicalInstitution\":\"\",\"motherIdNumber\":\"\",\"motherName\":\"\",\"name\":\"\",\"operatingPeriodUntil\":\"\",\"permittedScope\":\"\",\"physicianLevel\":\"\",\"practiceCategory\":\"\",\"practiceInstitution\":\"\",\"practiceScope\":\"\",\"practiceType\":\"\",\"premises\":\"\",\"principal\":\"\",\"registeredCapital\":\"\",\"registeredOn\":\"\",\"residenceAddress\":\"\",\"rightNature\":\"\",\"rightType\":\"\",\"spouse\":{\"supervisoryAuthority\":\"\",\"unitNumber\":\"\",\"usage\":\"\",\"validityTerm\":\"\",\"vehicleClasses\":[\"",
    "\"address\":\"\",\"birthDate\":\"19\",\"certificateNumber\":\"\",\"domicile\":\"\",\"legalRepresentative\":\"\",\"licenceNumber\":\"\",\"nationality\":\"中国\",\"registrationAuthority\":\"\",\"sex\":\"女\",\"sex\":\"男\",",
    "{\"@context\":[\"https://www.w3.org/ns/credentials/v2\"],\"credentialSchema\":{\"id\":\"https://",
    "/v1/licence-types/111000000000/versions/1/schema\",\"type\":\"JsonSchema\"},\"credentialSubject\":{",
    "\"holderName\":\"\",\"id\":\"urn:cn:uscc:9\",\"id\":\"urn:cn:rid:\",\"issuedOn\":\"20\",\"issuingAuthority\":\"\"},",
    "\"id\":\"urn:elicence:1.2.156.3005.2.111000000000\",\"issuer\":\"did:web:",
    ":issuers:\",\"jurisdiction\":\"\",\"proof\":{\"@context\":[\"https://www.w3.org/ns/credentials/v2\"],\"created\":\"20",
    "T00:00:00Z\",\"cryptosuite\":\"eddsa-jcs-2022\",\"proofPurpose\":\"assertionMethod\",\"proofValue\":\"z\",\"type\":\"DataIntegrityProof\",\"verificationMethod\":\"did:web:#z6Mk\"},",
    "\"relatedResource\":[{\"digestMultibase\":\"uEi\",\"id\":\"urn:elicence:1.2.156.3005.2.",
    ".002.",
    "\"}],\"type\":[\"VerifiableCredential\",\"ELicence\"],\"validFrom\":\"20-01T00:00:00Z\",\"validUntil\":\"20",
).as_bytes();

/// SHA-256 of [`DICTIONARY`], hex: a test pins it so an edit cannot slip through.
#[cfg(test)]
pub const DICTIONARY_SHA256: &str =
    "03d439353573dc140791dfac1d18bd73d88913629f6dedd5eada6c0b15ddcbd2";
